<?xml version="1.0" encoding="UTF-8"?>
<!-- ALKIS-like buildings by function (Gebäudefunktion), after the GeoInfoDok signature catalogue, simplified. -->
<StyledLayerDescriptor version="1.0.0"
    xmlns="http://www.opengis.net/sld"
    xmlns:ogc="http://www.opengis.net/ogc"
    xmlns:xlink="http://www.w3.org/1999/xlink"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd">
  <NamedLayer>
    <Name>buildings</Name>
    <UserStyle>
      <Name>alkis_buildings</Name>
      <Title>Gebäude nach Funktion (ALKIS-ähnlich)</Title>
      <FeatureTypeStyle>
        <Rule>
          <Name>geb_residential</Name>
          <Title>Wohngebäude</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>funktion</ogc:PropertyName><ogc:Literal>residential</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#f4cfc3</CssParameter>
            </Fill>
            <Stroke>
              <CssParameter name="stroke">#9a6a5c</CssParameter>
              <CssParameter name="stroke-width">0.8</CssParameter>
            </Stroke>
          </PolygonSymbolizer>
        </Rule>
        <Rule>
          <Name>geb_mixed</Name>
          <Title>Gebäude für Wohnen und Gewerbe</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>funktion</ogc:PropertyName><ogc:Literal>mixed</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#efc8d6</CssParameter>
            </Fill>
            <Stroke>
              <CssParameter name="stroke">#94687a</CssParameter>
              <CssParameter name="stroke-width">0.8</CssParameter>
            </Stroke>
          </PolygonSymbolizer>
        </Rule>
        <Rule>
          <Name>geb_commercial</Name>
          <Title>Gebäude für Handel und Dienstleistungen</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>funktion</ogc:PropertyName><ogc:Literal>commercial</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#e3c3e4</CssParameter>
            </Fill>
            <Stroke>
              <CssParameter name="stroke">#806183</CssParameter>
              <CssParameter name="stroke-width">0.8</CssParameter>
            </Stroke>
          </PolygonSymbolizer>
        </Rule>
        <Rule>
          <Name>geb_industrial</Name>
          <Title>Gebäude für Gewerbe und Industrie</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>funktion</ogc:PropertyName><ogc:Literal>industrial</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#cfcfe3</CssParameter>
            </Fill>
            <Stroke>
              <CssParameter name="stroke">#5f5f80</CssParameter>
              <CssParameter name="stroke-width">0.8</CssParameter>
            </Stroke>
          </PolygonSymbolizer>
        </Rule>
        <Rule>
          <Name>geb_public</Name>
          <Title>Gebäude für öffentliche Zwecke</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>funktion</ogc:PropertyName><ogc:Literal>public</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#f1a9a0</CssParameter>
            </Fill>
            <Stroke>
              <CssParameter name="stroke">#8c4038</CssParameter>
              <CssParameter name="stroke-width">0.8</CssParameter>
            </Stroke>
          </PolygonSymbolizer>
        </Rule>
        <Rule>
          <Name>geb_school</Name>
          <Title>Schule</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>funktion</ogc:PropertyName><ogc:Literal>school</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#f1a9a0</CssParameter>
            </Fill>
            <Stroke>
              <CssParameter name="stroke">#8c4038</CssParameter>
              <CssParameter name="stroke-width">0.8</CssParameter>
            </Stroke>
          </PolygonSymbolizer>
        </Rule>
        <Rule>
          <Name>geb_church</Name>
          <Title>Kirche</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>funktion</ogc:PropertyName><ogc:Literal>church</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#f1a9a0</CssParameter>
            </Fill>
            <Stroke>
              <CssParameter name="stroke">#8c4038</CssParameter>
              <CssParameter name="stroke-width">0.8</CssParameter>
            </Stroke>
          </PolygonSymbolizer>
        </Rule>
        <Rule>
          <Name>geb_garage</Name>
          <Title>Garage / Nebengebäude</Title>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>funktion</ogc:PropertyName><ogc:Literal>garage</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#dcdcdc</CssParameter>
            </Fill>
            <Stroke>
              <CssParameter name="stroke">#7a7a7a</CssParameter>
              <CssParameter name="stroke-width">0.8</CssParameter>
            </Stroke>
          </PolygonSymbolizer>
        </Rule>
        <Rule>
          <Name>geb_sonstige</Name>
          <Title>Sonstiges Gebäude</Title>
          <ElseFilter/>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#e6dcd4</CssParameter>
            </Fill>
            <Stroke>
              <CssParameter name="stroke">#7a6e66</CssParameter>
              <CssParameter name="stroke-width">0.8</CssParameter>
            </Stroke>
          </PolygonSymbolizer>
        </Rule>
      </FeatureTypeStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
