<?xml version="1.0" encoding="UTF-8"?>
<!-- The station label is name (a GeoPackage layer) or label (a live feed layer): a missing property adds nothing to the Label. Air-quality stations by the Umweltbundesamt air-quality index (LQI): the worst of NO2 (1 h mean), PM10 and PM2.5 (24 h running means) and O3 (1 h mean), in µg/m³, with the class bounds of the UBA index (sehr gut / gut / mäßig / schlecht / sehr schlecht: NO2 10/30/60/100, PM10 9/27/54/90, PM2.5 5/15/30/50, O3 24/72/144/240; source: umweltbundesamt.de, Der Luftqualitätsindex (LQI)). Missing pollutants are ignored; a station without any value is drawn as "keine Daten". Colours: the European index palette. -->
<StyledLayerDescriptor version="1.0.0"
    xmlns="http://www.opengis.net/sld"
    xmlns:ogc="http://www.opengis.net/ogc"
    xmlns:xlink="http://www.w3.org/1999/xlink"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd">
  <NamedLayer>
    <Name>air_stations</Name>
    <UserStyle>
      <Name>air_quality_uba</Name>
      <Title>Luftqualität (UBA-Index)</Title>
      <FeatureTypeStyle>
        <Rule>
          <Name>sehr_gut</Name>
          <Title>LQI sehr gut</Title>
          <ogc:Filter><ogc:And><ogc:Or><ogc:Not><ogc:PropertyIsNull><ogc:PropertyName>no2</ogc:PropertyName></ogc:PropertyIsNull></ogc:Not><ogc:Not><ogc:PropertyIsNull><ogc:PropertyName>pm10</ogc:PropertyName></ogc:PropertyIsNull></ogc:Not><ogc:Not><ogc:PropertyIsNull><ogc:PropertyName>pm25</ogc:PropertyName></ogc:PropertyIsNull></ogc:Not><ogc:Not><ogc:PropertyIsNull><ogc:PropertyName>o3</ogc:PropertyName></ogc:PropertyIsNull></ogc:Not></ogc:Or><ogc:Not><ogc:Or><ogc:PropertyIsGreaterThan><ogc:PropertyName>no2</ogc:PropertyName><ogc:Literal>10</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm10</ogc:PropertyName><ogc:Literal>9</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm25</ogc:PropertyName><ogc:Literal>5</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>o3</ogc:PropertyName><ogc:Literal>24</ogc:Literal></ogc:PropertyIsGreaterThan></ogc:Or></ogc:Not></ogc:And></ogc:Filter>
          <PointSymbolizer>
            <Graphic>
              <Mark>
                <WellKnownName>circle</WellKnownName>
                <Fill>
                  <CssParameter name="fill">#50f0e6</CssParameter>
                </Fill>
                <Stroke>
                  <CssParameter name="stroke">#333333</CssParameter>
                  <CssParameter name="stroke-width">1</CssParameter>
                </Stroke>
              </Mark>
              <Size>14</Size>
            </Graphic>
          </PointSymbolizer>
        </Rule>
        <Rule>
          <Name>gut</Name>
          <Title>LQI gut</Title>
          <ogc:Filter><ogc:And><ogc:Or><ogc:PropertyIsGreaterThan><ogc:PropertyName>no2</ogc:PropertyName><ogc:Literal>10</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm10</ogc:PropertyName><ogc:Literal>9</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm25</ogc:PropertyName><ogc:Literal>5</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>o3</ogc:PropertyName><ogc:Literal>24</ogc:Literal></ogc:PropertyIsGreaterThan></ogc:Or><ogc:Not><ogc:Or><ogc:PropertyIsGreaterThan><ogc:PropertyName>no2</ogc:PropertyName><ogc:Literal>30</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm10</ogc:PropertyName><ogc:Literal>27</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm25</ogc:PropertyName><ogc:Literal>15</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>o3</ogc:PropertyName><ogc:Literal>72</ogc:Literal></ogc:PropertyIsGreaterThan></ogc:Or></ogc:Not></ogc:And></ogc:Filter>
          <PointSymbolizer>
            <Graphic>
              <Mark>
                <WellKnownName>circle</WellKnownName>
                <Fill>
                  <CssParameter name="fill">#50ccaa</CssParameter>
                </Fill>
                <Stroke>
                  <CssParameter name="stroke">#333333</CssParameter>
                  <CssParameter name="stroke-width">1</CssParameter>
                </Stroke>
              </Mark>
              <Size>14</Size>
            </Graphic>
          </PointSymbolizer>
        </Rule>
        <Rule>
          <Name>maessig</Name>
          <Title>LQI mäßig</Title>
          <ogc:Filter><ogc:And><ogc:Or><ogc:PropertyIsGreaterThan><ogc:PropertyName>no2</ogc:PropertyName><ogc:Literal>30</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm10</ogc:PropertyName><ogc:Literal>27</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm25</ogc:PropertyName><ogc:Literal>15</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>o3</ogc:PropertyName><ogc:Literal>72</ogc:Literal></ogc:PropertyIsGreaterThan></ogc:Or><ogc:Not><ogc:Or><ogc:PropertyIsGreaterThan><ogc:PropertyName>no2</ogc:PropertyName><ogc:Literal>60</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm10</ogc:PropertyName><ogc:Literal>54</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm25</ogc:PropertyName><ogc:Literal>30</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>o3</ogc:PropertyName><ogc:Literal>144</ogc:Literal></ogc:PropertyIsGreaterThan></ogc:Or></ogc:Not></ogc:And></ogc:Filter>
          <PointSymbolizer>
            <Graphic>
              <Mark>
                <WellKnownName>circle</WellKnownName>
                <Fill>
                  <CssParameter name="fill">#f0e641</CssParameter>
                </Fill>
                <Stroke>
                  <CssParameter name="stroke">#333333</CssParameter>
                  <CssParameter name="stroke-width">1</CssParameter>
                </Stroke>
              </Mark>
              <Size>14</Size>
            </Graphic>
          </PointSymbolizer>
        </Rule>
        <Rule>
          <Name>schlecht</Name>
          <Title>LQI schlecht</Title>
          <ogc:Filter><ogc:And><ogc:Or><ogc:PropertyIsGreaterThan><ogc:PropertyName>no2</ogc:PropertyName><ogc:Literal>60</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm10</ogc:PropertyName><ogc:Literal>54</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm25</ogc:PropertyName><ogc:Literal>30</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>o3</ogc:PropertyName><ogc:Literal>144</ogc:Literal></ogc:PropertyIsGreaterThan></ogc:Or><ogc:Not><ogc:Or><ogc:PropertyIsGreaterThan><ogc:PropertyName>no2</ogc:PropertyName><ogc:Literal>100</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm10</ogc:PropertyName><ogc:Literal>90</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm25</ogc:PropertyName><ogc:Literal>50</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>o3</ogc:PropertyName><ogc:Literal>240</ogc:Literal></ogc:PropertyIsGreaterThan></ogc:Or></ogc:Not></ogc:And></ogc:Filter>
          <PointSymbolizer>
            <Graphic>
              <Mark>
                <WellKnownName>circle</WellKnownName>
                <Fill>
                  <CssParameter name="fill">#ff5050</CssParameter>
                </Fill>
                <Stroke>
                  <CssParameter name="stroke">#333333</CssParameter>
                  <CssParameter name="stroke-width">1</CssParameter>
                </Stroke>
              </Mark>
              <Size>14</Size>
            </Graphic>
          </PointSymbolizer>
        </Rule>
        <Rule>
          <Name>sehr_schlecht</Name>
          <Title>LQI sehr schlecht</Title>
          <ogc:Filter><ogc:Or><ogc:PropertyIsGreaterThan><ogc:PropertyName>no2</ogc:PropertyName><ogc:Literal>100</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm10</ogc:PropertyName><ogc:Literal>90</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>pm25</ogc:PropertyName><ogc:Literal>50</ogc:Literal></ogc:PropertyIsGreaterThan><ogc:PropertyIsGreaterThan><ogc:PropertyName>o3</ogc:PropertyName><ogc:Literal>240</ogc:Literal></ogc:PropertyIsGreaterThan></ogc:Or></ogc:Filter>
          <PointSymbolizer>
            <Graphic>
              <Mark>
                <WellKnownName>circle</WellKnownName>
                <Fill>
                  <CssParameter name="fill">#960032</CssParameter>
                </Fill>
                <Stroke>
                  <CssParameter name="stroke">#333333</CssParameter>
                  <CssParameter name="stroke-width">1</CssParameter>
                </Stroke>
              </Mark>
              <Size>14</Size>
            </Graphic>
          </PointSymbolizer>
        </Rule>
        <Rule>
          <Name>keine_daten</Name>
          <Title>keine Daten</Title>
          <ElseFilter/>
          <PointSymbolizer>
            <Graphic>
              <Mark>
                <WellKnownName>circle</WellKnownName>
                <Fill>
                  <CssParameter name="fill">#ffffff</CssParameter>
                </Fill>
                <Stroke>
                  <CssParameter name="stroke">#777777</CssParameter>
                  <CssParameter name="stroke-width">1.5</CssParameter>
                </Stroke>
              </Mark>
              <Size>12</Size>
            </Graphic>
          </PointSymbolizer>
        </Rule>
      </FeatureTypeStyle>
      <FeatureTypeStyle>
        <Rule>
          <Name>name</Name>
          <Title>Stationsname</Title>
          <MaxScaleDenominator>20000</MaxScaleDenominator>
          <TextSymbolizer>
            <Label><ogc:PropertyName>name</ogc:PropertyName><ogc:PropertyName>label</ogc:PropertyName></Label>
            <Font>
              <CssParameter name="font-family">DejaVu Sans</CssParameter>
              <CssParameter name="font-size">10</CssParameter>
              <CssParameter name="font-style">normal</CssParameter>
              <CssParameter name="font-weight">bold</CssParameter>
            </Font>
            <LabelPlacement>
              <PointPlacement>
                <AnchorPoint><AnchorPointX>0</AnchorPointX><AnchorPointY>0.5</AnchorPointY></AnchorPoint>
                <Displacement><DisplacementX>10</DisplacementX><DisplacementY>0</DisplacementY></Displacement>
              </PointPlacement>
            </LabelPlacement>
            <Halo>
              <Radius>1.5</Radius>
              <Fill>
                <CssParameter name="fill">#ffffff</CssParameter>
              </Fill>
            </Halo>
            <Fill>
              <CssParameter name="fill">#222222</CssParameter>
            </Fill>
            <VendorOption name="spaceAround">2</VendorOption>
          </TextSymbolizer>
        </Rule>
      </FeatureTypeStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
