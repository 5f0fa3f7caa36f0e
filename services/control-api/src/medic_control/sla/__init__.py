"""control-api: severity SLAs — deadlines escalated before they are missed, and misses recorded."""
