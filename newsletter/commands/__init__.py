"""One module per command: plain typed functions the CLI calls.

Entry points: one function per command (:func:`newsletter.commands.send.send`,
:func:`newsletter.commands.publish.publish`, …), each called by :mod:`newsletter.cli`
with its options: it calls one function of a package and prints the result.
"""
