"""Porte-documents: a person's own documents, which the administration cannot see."""
