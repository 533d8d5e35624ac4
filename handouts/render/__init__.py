"""Render HTML to PDF with WeasyPrint, and measure what was drawn (colours, glyphs)."""
