"""The API's marshmallow schemas, one per request body and per answer shape, by area; `base`
holds the strict fields and `load` / `dump` / `answer`."""
