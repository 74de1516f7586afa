"""Standard operating procedures: the SOP library, its Markdown text and shipped SOPs."""
