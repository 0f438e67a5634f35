"""Electrochemistry beside the structure: impedance and cycling readers, equivalent-circuit fits
(impedance.py), Kramers-Kronig checks, derived quantities, and the structure -> electrochemistry
prediction joined per scan (issue 15)."""
