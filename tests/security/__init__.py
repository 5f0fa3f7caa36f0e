"""Security suite: each test is an attack that must be refused (and audited where Medic acts)."""
