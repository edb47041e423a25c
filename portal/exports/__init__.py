"""« Télécharger mes données »: everything the portal holds about a person, as a ZIP."""
