"""The flags context: what went wrong with an order, found by the rules and worked by people.

``codes`` (what each code means to the worklist: a leaf), ``store`` (opening and closing,
race-safe), ``rules/`` (the detectors), ``detection`` (runs the rules, applies their
findings), ``actions`` (a person takes, snoozes, resolves a flag) and ``messaging`` (telling
the customer).
"""
