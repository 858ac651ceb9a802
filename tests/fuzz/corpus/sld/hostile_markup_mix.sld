<?xml version="1.0"?>
<?pi x="1"?>
<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc">
<!-- a=b > c --><NamedLayer note="x>y=z"><Name>h</Name><UserStyle><FeatureTypeStyle>
<Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?><Rule><Name><![CDATA[<a b="c">]]></Name><!-- <Rule> --></Rule>
<?p ?></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>
