"""Calls: following each inbound call over AMI from arrival to hang-up, then logging it."""
