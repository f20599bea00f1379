"""Facts about AWS and the CDK that more than one layer needs, kept once, as plain data.

The bottom of the house: imports nothing but the standard library, so `config` can validate
against these facts without starting the CDK, and the constructs build with the same numbers.
"""
