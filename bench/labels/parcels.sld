<?xml version="1.0" encoding="UTF-8"?>
<!-- bench/labels: styles/parcels.sld (the bench look: light fill, thin grey outline) plus parcel
     numbers (flstnr) centred in the parcels at z18 and closer. Twin of the parcel_labels
     layer of cadastre_labels.xml (Mapnik). -->
<StyledLayerDescriptor version="1.0.0"
    xmlns="http://www.opengis.net/sld"
    xmlns:ogc="http://www.opengis.net/ogc"
    xmlns:xlink="http://www.w3.org/1999/xlink"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd">
  <NamedLayer>
    <Name>parcels</Name>
    <UserStyle>
      <Name>parcels_labels</Name>
      <Title>Parcels with numbers</Title>
      <FeatureTypeStyle>
        <Rule>
          <Name>parcel</Name>
          <Title>Parcel</Title>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#fbf7ec</CssParameter>
            </Fill>
            <Stroke>
              <CssParameter name="stroke">#5a5a5a</CssParameter>
              <CssParameter name="stroke-width">0.5</CssParameter>
            </Stroke>
          </PolygonSymbolizer>
        </Rule>
      </FeatureTypeStyle>
      <FeatureTypeStyle>
        <Rule>
          <Name>parcel_number</Name>
          <Title>Parcel number (flstnr), z18 and closer</Title>
          <MaxScaleDenominator>3000</MaxScaleDenominator>
          <TextSymbolizer>
            <Label><ogc:PropertyName>flstnr</ogc:PropertyName></Label>
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
            <Priority>1000</Priority>
            <VendorOption name="spaceAround">2</VendorOption>
          </TextSymbolizer>
        </Rule>
      </FeatureTypeStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
