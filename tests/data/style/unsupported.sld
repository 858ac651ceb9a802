<?xml version="1.0" encoding="UTF-8"?>
<!-- Elements the style module does not draw: each is warned about with its line and
     skipped, and the rest of its symbolizer or rule is kept. Expected: 13 warnings. -->
<StyledLayerDescriptor version="1.0.0"
    xmlns="http://www.opengis.net/sld"
    xmlns:ogc="http://www.opengis.net/ogc"
    xmlns:xlink="http://www.w3.org/1999/xlink">
  <NamedLayer>
    <Name>mixed</Name>
    <UserStyle>
      <FeatureTypeStyle>
        <Rule>
          <Name>fills</Name>
          <!-- a font mark cannot be drawn (2 warnings: the mark, the GraphicFill); the
               colour beside it is kept -->
          <PolygonSymbolizer>
            <Fill>
              <GraphicFill>
                <Graphic>
                  <Mark>
                    <WellKnownName>extshape://narrow</WellKnownName>
                  </Mark>
                </Graphic>
              </GraphicFill>
              <CssParameter name="fill">#ff0000</CssParameter>
            </Fill>
            <Stroke>
              <CssParameter name="stroke">#0000ff</CssParameter>
            </Stroke>
          </PolygonSymbolizer>
          <!-- a pattern-filled outline (1 warning): no outline, not a default black one -->
          <PolygonSymbolizer>
            <Fill>
              <CssParameter name="fill">#00ff00</CssParameter>
            </Fill>
            <Stroke>
              <GraphicFill>
                <Graphic>
                  <Mark>
                    <WellKnownName>circle</WellKnownName>
                  </Mark>
                </Graphic>
              </GraphicFill>
            </Stroke>
          </PolygonSymbolizer>
        </Rule>
        <Rule>
          <Name>lines</Name>
          <!-- Geometry and an unknown stroke parameter (2 warnings) -->
          <LineSymbolizer>
            <Geometry>
              <ogc:PropertyName>centreline</ogc:PropertyName>
            </Geometry>
            <Stroke>
              <CssParameter name="stroke">#00ff00</CssParameter>
              <CssParameter name="stroke-foo">3</CssParameter>
            </Stroke>
          </LineSymbolizer>
          <!-- a vendor option of a line (1 warning) -->
          <LineSymbolizer>
            <Stroke>
              <CssParameter name="stroke">#123456</CssParameter>
            </Stroke>
            <VendorOption name="inclusion">mapOnly</VendorOption>
          </LineSymbolizer>
        </Rule>
        <Rule>
          <Name>points</Name>
          <!-- JPEG is not read (1 warning): the Mark alternative is drawn -->
          <PointSymbolizer>
            <Graphic>
              <ExternalGraphic>
                <OnlineResource xlink:type="simple" xlink:href="pin.jpg"/>
                <Format>image/jpeg</Format>
              </ExternalGraphic>
              <Mark>
                <WellKnownName>Triangle</WellKnownName>
                <Fill/>
              </Mark>
              <Size>9</Size>
            </Graphic>
          </PointSymbolizer>
          <!-- inline content only (2 warnings): the symbolizer is skipped -->
          <PointSymbolizer>
            <Graphic>
              <ExternalGraphic>
                <InlineContent encoding="base64">iVBORw0KGgo=</InlineContent>
                <Format>image/png</Format>
              </ExternalGraphic>
            </Graphic>
          </PointSymbolizer>
          <!-- a shield graphic and an unknown vendor option (2 warnings); the label stays -->
          <TextSymbolizer>
            <Label><ogc:PropertyName>name</ogc:PropertyName></Label>
            <Graphic>
              <Mark>
                <WellKnownName>square</WellKnownName>
              </Mark>
            </Graphic>
            <VendorOption name="polygonAlign">mbr</VendorOption>
          </TextSymbolizer>
          <!-- a function we cannot evaluate (1 warning): the symbolizer is skipped -->
          <TextSymbolizer>
            <Label>
              <ogc:Function name="strCapitalize">
                <ogc:PropertyName>name</ogc:PropertyName>
              </ogc:Function>
            </Label>
          </TextSymbolizer>
          <!-- 1 warning -->
          <RasterSymbolizer>
            <Opacity>1</Opacity>
          </RasterSymbolizer>
        </Rule>
      </FeatureTypeStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
