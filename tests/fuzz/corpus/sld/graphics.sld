<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc" xmlns:xlink="http://www.w3.org/1999/xlink">
<NamedLayer><Name>g</Name><UserStyle><FeatureTypeStyle><Rule>
<PolygonSymbolizer><Fill><GraphicFill><Graphic><Mark><WellKnownName>shape://times</WellKnownName><Stroke><CssParameter name="stroke">#990099</CssParameter></Stroke></Mark><Size>8</Size><Rotation><ogc:PropertyName>p0</ogc:PropertyName></Rotation></Graphic></GraphicFill></Fill></PolygonSymbolizer>
<LineSymbolizer><Stroke><GraphicStroke><Graphic><Mark><WellKnownName>shape://oarrow</WellKnownName><Stroke/></Mark><Size>6</Size></Graphic><Gap>4</Gap><InitialGap>2</InitialGap></GraphicStroke><CssParameter name="stroke-dasharray">6 4 2</CssParameter></Stroke><PerpendicularOffset>-2</PerpendicularOffset></LineSymbolizer>
</Rule><Rule>
<PointSymbolizer><Graphic><ExternalGraphic><OnlineResource xlink:href="pin.svg"/><Format>image/svg+xml</Format></ExternalGraphic><Mark><WellKnownName>ttf://A#0x41</WellKnownName></Mark><Mark><WellKnownName>shape://carrow</WellKnownName><Fill/></Mark><AnchorPoint><AnchorPointX>1</AnchorPointX><AnchorPointY>0</AnchorPointY></AnchorPoint><Displacement><DisplacementX>4</DisplacementX><DisplacementY>-4</DisplacementY></Displacement></Graphic></PointSymbolizer>
</Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>
