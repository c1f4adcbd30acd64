"""The catalogue context: who a customer is and what they bought, whatever system said it.

``identity`` (normalising e-mails and phones), ``merges`` (one person, one customer).
"""
