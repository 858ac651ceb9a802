<?xml version="1.0" encoding="ISO-8859-1"?>
<StyledLayerDescriptor version="1.0.0"
    xsi:schemaLocation="http://www.opengis.net/sld StyledLayerDescriptor.xsd"
    xmlns="http://www.opengis.net/sld"
    xmlns:ogc="http://www.opengis.net/ogc"
    xmlns:xlink="http://www.w3.org/1999/xlink"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <NamedLayer>
    <Name>landuse</Name>
    <UserStyle>
      <Name>landuse_plain</Name>
      <Title>Plain grey (not the default)</Title>
      <FeatureTypeStyle>
        <Rule>
          <PolygonSymbolizer>
            <Fill/>
          </PolygonSymbolizer>
        </Rule>
      </FeatureTypeStyle>
    </UserStyle>
    <UserStyle>
      <Name>landuse</Name>
      <Title>Land use</Title>
      <Abstract>Land use classes, as exported by GeoServer 2.x</Abstract>
      <IsDefault>1</IsDefault>
      <FeatureTypeStyle>
        <FeatureTypeName>Feature</FeatureTypeName>
        <Rule>
          <Name>parks</Name>
          <Title>Parks &amp; Grünflächen</Title>
          <Abstract>Everything green</Abstract>
          <ogc:Filter>
            <ogc:Or>
              <ogc:PropertyIsLike wildCard="*" singleChar="." escape="!">
                <ogc:PropertyName>name</ogc:PropertyName>
                <ogc:Literal>*park*</ogc:Literal>
              </ogc:PropertyIsLike>
              <ogc:PropertyIsEqualTo matchCase="false">
                <ogc:PropertyName>kind</ogc:PropertyName>
                <ogc:Literal>GARDEN</ogc:Literal>
              </ogc:PropertyIsEqualTo>
            </ogc:Or>
          </ogc:Filter>
          <MaxScaleDenominator>50000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">
                <ogc:Literal>#A8D08D</ogc:Literal>
              </CssParameter>
              <CssParameter name="fill-opacity">0.7</CssParameter>
            </Fill>
          </PolygonSymbolizer>
          <TextSymbolizer>
            <Label>
              <ogc:PropertyName>name</ogc:PropertyName>
            </Label>
            <Font>
              <CssParameter name="font-family">DejaVu Sans</CssParameter>
            </Font>
          </TextSymbolizer>
        </Rule>
        <Rule>
          <Name>dense</Name>
          <Title>Dense residential</Title>
          <ogc:Filter>
            <ogc:And>
              <ogc:PropertyIsBetween>
                <ogc:PropertyName>density</ogc:PropertyName>
                <ogc:LowerBoundary>
                  <ogc:Literal>100</ogc:Literal>
                </ogc:LowerBoundary>
                <ogc:UpperBoundary>
                  <ogc:Mul>
                    <ogc:Literal>2.5</ogc:Literal>
                    <ogc:Literal>200</ogc:Literal>
                  </ogc:Mul>
                </ogc:UpperBoundary>
              </ogc:PropertyIsBetween>
              <ogc:Not>
                <ogc:PropertyIsNull>
                  <ogc:PropertyName>kind</ogc:PropertyName>
                </ogc:PropertyIsNull>
              </ogc:Not>
            </ogc:And>
          </ogc:Filter>
          <MinScaleDenominator>5000</MinScaleDenominator>
          <MaxScaleDenominator>100000</MaxScaleDenominator>
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#E0B0A0</CssParameter>
            </Fill>
            <Stroke>
              <CssParameter name="stroke">#805040</CssParameter>
              <CssParameter name="stroke-width">0.25</CssParameter>
              <CssParameter name="stroke-linejoin">mitre</CssParameter>
              <CssParameter name="stroke-linecap">butt</CssParameter>
            </Stroke>
          </PolygonSymbolizer>
        </Rule>
        <Rule>
          <Name>other</Name>
          <Title>Other land use</Title>
          <ElseFilter/>
          <PolygonSymbolizer>
            <Stroke/>
          </PolygonSymbolizer>
        </Rule>
        <VendorOption name="ruleEvaluation">first</VendorOption>
      </FeatureTypeStyle>
      <FeatureTypeStyle>
        <Name>outline</Name>
        <Rule>
          <Name>outline</Name>
          <Title>Outline</Title>
          <LineSymbolizer>
            <Stroke>
              <CssParameter name="stroke">#000000</CssParameter>
              <CssParameter name="stroke-width">
                2
              </CssParameter>
            </Stroke>
          </LineSymbolizer>
        </Rule>
      </FeatureTypeStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
