<?xml version="1.0" encoding="UTF-8"?>
<!-- ALKIS-like parcels (Flurstücke): fill by actual use, black parcel boundaries, parcel numbers as Zähler over Nenner with a fraction bar (VendorOption "fraction", a tilesrv extension that other servers ignore). Colours after the GeoInfoDok/NRW signature catalogue, simplified. -->
<StyledLayerDescriptor version="1.0.0"
    xmlns="http://www.opengis.net/sld"
    xmlns:ogc="http://www.opengis.net/ogc"
    xmlns:xlink="http://www.w3.org/1999/xlink"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd">
  <NamedLayer>
    <Name>parcels</Name>
    <UserStyle>
      <Name>alkis_parcels</Name>
      <Title>Flurstücke (ALKIS-ähnlich)</Title>
      <FeatureTypeStyle>
        <Rule>
          <Name>nutzung_residential</Name>
          <Title>Wohnbaufläche</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>nutzung</ogc:PropertyName><ogc:Literal>residential</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#fbf2e8</CssParameter>
            </Fill>
          </PolygonSymbolizer>
        </Rule>
        <Rule>
          <Name>nutzung_residential_dense</Name>
          <Title>Wohnbaufläche (dicht)</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>nutzung</ogc:PropertyName><ogc:Literal>residential_dense</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#f8ece0</CssParameter>
            </Fill>
          </PolygonSymbolizer>
        </Rule>
        <Rule>
          <Name>nutzung_public</Name>
          <Title>Fläche besonderer funktionaler Prägung</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>nutzung</ogc:PropertyName><ogc:Literal>public</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#f3e6ee</CssParameter>
            </Fill>
          </PolygonSymbolizer>
        </Rule>
        <Rule>
          <Name>nutzung_other</Name>
          <Title>Sonstige Nutzung</Title>
          <ElseFilter/>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#f6f3ea</CssParameter>
            </Fill>
          </PolygonSymbolizer>
        </Rule>
      </FeatureTypeStyle>
      <FeatureTypeStyle>
        <Rule>
          <Name>grenze</Name>
          <Title>Flurstücksgrenze</Title>
          <MaxScaleDenominator>25000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Stroke>
              <CssParameter name="stroke">#000000</CssParameter>
              <CssParameter name="stroke-width">0.6</CssParameter>
            </Stroke>
          </PolygonSymbolizer>
        </Rule>
      </FeatureTypeStyle>
      <FeatureTypeStyle>
        <Rule>
          <Name>nummer_bruch</Name>
          <Title>Flurstücksnummer (Zähler/Nenner)</Title>
          <ogc:Filter><ogc:Not><ogc:PropertyIsNull><ogc:PropertyName>nenner</ogc:PropertyName></ogc:PropertyIsNull></ogc:Not></ogc:Filter>
          <MaxScaleDenominator>3000</MaxScaleDenominator>
          <TextSymbolizer>
            <Label><ogc:PropertyName>zaehler</ogc:PropertyName><![CDATA[
]]><ogc:PropertyName>nenner</ogc:PropertyName></Label>
            <Font>
              <CssParameter name="font-family">DejaVu Sans</CssParameter>
              <CssParameter name="font-size">10</CssParameter>
              <CssParameter name="font-style">normal</CssParameter>
              <CssParameter name="font-weight">normal</CssParameter>
            </Font>
            <LabelPlacement>
              <PointPlacement>
                <AnchorPoint><AnchorPointX>0.5</AnchorPointX><AnchorPointY>0.5</AnchorPointY></AnchorPoint>
              </PointPlacement>
            </LabelPlacement>
            <Halo>
              <Radius>1.5</Radius>
              <Fill>
                <CssParameter name="fill">#ffffff</CssParameter>
              </Fill>
            </Halo>
            <Fill>
              <CssParameter name="fill">#000000</CssParameter>
            </Fill>
            <VendorOption name="spaceAround">2</VendorOption>
            <VendorOption name="partials">false</VendorOption>
            <VendorOption name="fraction">true</VendorOption>
          </TextSymbolizer>
        </Rule>
        <Rule>
          <Name>nummer</Name>
          <Title>Flurstücksnummer</Title>
          <ogc:Filter><ogc:PropertyIsNull><ogc:PropertyName>nenner</ogc:PropertyName></ogc:PropertyIsNull></ogc:Filter>
          <MaxScaleDenominator>3000</MaxScaleDenominator>
          <TextSymbolizer>
            <Label><ogc:PropertyName>zaehler</ogc:PropertyName></Label>
            <Font>
              <CssParameter name="font-family">DejaVu Sans</CssParameter>
              <CssParameter name="font-size">10</CssParameter>
              <CssParameter name="font-style">normal</CssParameter>
              <CssParameter name="font-weight">normal</CssParameter>
            </Font>
            <LabelPlacement>
              <PointPlacement>
                <AnchorPoint><AnchorPointX>0.5</AnchorPointX><AnchorPointY>0.5</AnchorPointY></AnchorPoint>
              </PointPlacement>
            </LabelPlacement>
            <Halo>
              <Radius>1.5</Radius>
              <Fill>
                <CssParameter name="fill">#ffffff</CssParameter>
              </Fill>
            </Halo>
            <Fill>
              <CssParameter name="fill">#000000</CssParameter>
            </Fill>
            <VendorOption name="spaceAround">2</VendorOption>
            <VendorOption name="partials">false</VendorOption>
          </TextSymbolizer>
        </Rule>
      </FeatureTypeStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
