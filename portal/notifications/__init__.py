"""Mes notifications and Mes préférences: the inbox and the email preferences per kind."""
