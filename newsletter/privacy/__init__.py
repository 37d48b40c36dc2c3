"""People's rights over what the project holds of them: shown (subject access) and erased.

Entry points: :func:`newsletter.privacy.holdings.show` (everything held about one
address) and :func:`newsletter.privacy.erase.forget` (remove it everywhere).

- ``people.py``: the project, its secret and its register of forgotten addresses;
- ``places.py``: the files of the project that name a person, and what forgetting does to each;
- ``holdings.py``: everything held about one address;
- ``erase.py``: forgetting one address.
"""
