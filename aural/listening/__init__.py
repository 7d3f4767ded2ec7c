"""Blind listening tests: build a static page (:mod:`aural.listening.build`) and summarise
the answers (:mod:`aural.listening.results`)."""
