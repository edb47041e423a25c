"""Mes relations: the people and organisations a person does procedures for."""
