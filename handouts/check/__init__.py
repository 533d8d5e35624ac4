"""The quality gate behind `handouts check`: content, reading level, pages, branding."""
