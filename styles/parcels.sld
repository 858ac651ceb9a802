<?xml version="1.0" encoding="UTF-8"?>
<!-- Cadastral parcels: light fill with a thin grey outline. -->
<StyledLayerDescriptor version="1.0.0"
    xmlns="http://www.opengis.net/sld"
    xmlns:ogc="http://www.opengis.net/ogc"
    xmlns:xlink="http://www.w3.org/1999/xlink"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd">
  <NamedLayer>
    <Name>parcels</Name>
    <UserStyle>
      <Name>parcels</Name>
      <Title>Parcels</Title>
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
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
