"""One stage class per account role; stacks inside are split by lifecycle.

`pipelines.platform.build_platform(app, config)` adds them all. Stages translate config into
construct props; constructs never see the config.
"""
