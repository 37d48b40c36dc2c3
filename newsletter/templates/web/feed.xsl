<?xml version="1.0" encoding="utf-8"?>
<!-- How a browser shows feed.xml: a short page saying what a feed is, then the issues.
     Feed readers ignore this file and read the feed itself. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" indent="yes" doctype-system="about:legacy-compat"/>
  <xsl:template match="/atom:feed">
    <html lang="{@xml:lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content="light dark"/>
        <title><xsl:value-of select="atom:title"/>: feed</title>
        <style>
          body { margin: 0 auto; max-width: 600px; padding: 24px; font-family: Helvetica, Arial, sans-serif; font-size: 16px; line-height: 1.5; color: #222222; background: #ffffff; }
          a { color: #4b2c82; }
          .about { background: #f3f1f7; padding: 12px 16px; border-radius: 4px; }
          code { overflow-wrap: anywhere; }
          ol { list-style: none; margin: 0; padding: 0; }
          li { border-top: 1px solid #dddddd; padding: 16px 0; }
          h2 { font-size: 20px; line-height: 1.3; margin: 0 0 4px 0; }
          .date { color: #555555; font-size: 14px; }
          li p { margin: 4px 0 0 0; }
          @media (prefers-color-scheme: dark) {
            body { color: #e8e8e8; background: #121212; }
            a { color: #cdb8f5; }
            .about { background: #1e1e1e; }
            .date { color: #b3b3b3; }
            li { border-top-color: #444444; }
          }
        </style>
      </head>
      <body>
        <h1><xsl:value-of select="atom:title"/></h1>
        <p class="about">This is a web feed. Copy its address,
          <code><xsl:value-of select="atom:link[@rel='self']/@href"/></code>,
          into your feed reader to get every new issue as it comes out, or
          <a href="{atom:link[@rel='alternate']/@href}">read the issues on the web</a>.</p>
        <ol>
          <xsl:for-each select="atom:entry">
            <li>
              <h2><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
              <span class="date"><xsl:value-of select="substring(atom:published, 1, 10)"/></span>
              <p><xsl:value-of select="atom:summary"/></p>
            </li>
          </xsl:for-each>
        </ol>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
