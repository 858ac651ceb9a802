<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" xmlns:se="http://www.opengis.net/se" xmlns:ogc="http://www.opengis.net/ogc">
<NamedLayer><se:Name>l</se:Name><UserStyle><se:FeatureTypeStyle><se:Rule>
<se:TextSymbolizer>
<se:Label> a <ogc:PropertyName>p0</ogc:PropertyName><![CDATA[ / ]]><ogc:Add><ogc:PropertyName>p1</ogc:PropertyName><ogc:Literal>1.5</ogc:Literal></ogc:Add><ogc:Function name="strConcat"><ogc:PropertyName>p2</ogc:PropertyName><ogc:Literal> x </ogc:Literal></ogc:Function><se:Concatenate><se:StringValue>s<ogc:PropertyName>p3</ogc:PropertyName></se:StringValue><se:StringValue/></se:Concatenate><ogc:Function name="Concatenate"><ogc:PropertyName>p4</ogc:PropertyName><ogc:PropertyName>p5</ogc:PropertyName><ogc:Div><ogc:PropertyName>p6</ogc:PropertyName><ogc:Literal>0</ogc:Literal></ogc:Div></ogc:Function></se:Label>
<se:Font><se:SvgParameter name="font-family">A, 'B C', "D</se:SvgParameter><se:SvgParameter name="font-size">11</se:SvgParameter><se:SvgParameter name="font-weight">700</se:SvgParameter></se:Font>
<se:LabelPlacement><se:PointPlacement><se:AnchorPoint><se:AnchorPointX>0.5</se:AnchorPointX><se:AnchorPointY>-0.5</se:AnchorPointY></se:AnchorPoint><se:Rotation><ogc:Mul><ogc:PropertyName>p7</ogc:PropertyName><ogc:Literal>-1</ogc:Literal></ogc:Mul></se:Rotation></se:PointPlacement></se:LabelPlacement>
<se:Halo><se:Radius>2</se:Radius><se:Fill><se:SvgParameter name="fill">#fff</se:SvgParameter></se:Fill></se:Halo>
<se:Priority><ogc:Function name="strConcat"><ogc:PropertyName>p8</ogc:PropertyName><ogc:Literal>0</ogc:Literal></ogc:Function></se:Priority>
<se:VendorOption name="repeat">100</se:VendorOption><se:VendorOption name="fraction">true</se:VendorOption>
</se:TextSymbolizer>
<se:TextSymbolizer><se:Label><ogc:Function name="Concatenate"><ogc:Literal>&#x00e4;&#x00df;</ogc:Literal><ogc:PropertyName>p9</ogc:PropertyName></ogc:Function></se:Label><se:LabelPlacement><se:LinePlacement><se:PerpendicularOffset>3</se:PerpendicularOffset><se:IsRepeated>true</se:IsRepeated><se:Gap>40</se:Gap></se:LinePlacement></se:LabelPlacement></se:TextSymbolizer>
</se:Rule></se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>
