"""Adapters: thin translators between one platform and the core's neutral types.

Only modules in this package may import a platform library (telegram, slack_bolt,
slack_sdk); tests check that.
"""
