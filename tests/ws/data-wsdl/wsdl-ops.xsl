<?xml version="1.0"?>
<!-- sgp02 test helper: one line per WSDL 1.1 operation of the portType:
     operation|input element|input Action|output element|output Action  (Action: wsam:Action, else wsa:Action) -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
	xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
	xmlns:wsa="http://www.w3.org/2005/08/addressing"
	xmlns:wsam="http://www.w3.org/2007/05/addressing/metadata">
	<xsl:output method="text"/>
	<xsl:key name="msg" match="/wsdl:definitions/wsdl:message" use="@name"/>
	<xsl:template match="/">
		<xsl:for-each select="/wsdl:definitions/wsdl:portType/wsdl:operation">
			<xsl:value-of select="@name"/>
			<xsl:for-each select="wsdl:input | wsdl:output">
				<xsl:text>|</xsl:text>
				<xsl:value-of select="substring-after(key('msg', substring-after(@message, ':'))/wsdl:part/@element, ':')"/>
				<xsl:text>|</xsl:text>
				<xsl:choose>
					<xsl:when test="@wsam:Action"><xsl:value-of select="@wsam:Action"/></xsl:when>
					<xsl:otherwise><xsl:value-of select="@wsa:Action"/></xsl:otherwise>
				</xsl:choose>
			</xsl:for-each>
			<xsl:text>&#10;</xsl:text>
		</xsl:for-each>
	</xsl:template>
</xsl:stylesheet>
