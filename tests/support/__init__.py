"""What the tests share: the chat drivers of every channel, the stand-in messengers' helpers, waiting, pictures.

Test modules import from here, never from one another.
"""
