"""The web pages teachers and directie use in a browser (Dutch, server-rendered)."""
