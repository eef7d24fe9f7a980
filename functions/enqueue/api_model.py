"""The base of the API's request and response models.

Their validators and serializers are built on first use rather than at import
(``defer_build``): a request touches two or three of the API's ~80 models, and building
all of them made up about 60 ms of enqueue's cold start, which the first caller waits
for. The OpenAPI document builds every one when it is asked for."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    model_config = ConfigDict(defer_build=True)
