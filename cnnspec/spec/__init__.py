"""The spec format: its values (:mod:`.values`), the document models (:mod:`.models`),
stage 2's validation (:mod:`.validate`, with :mod:`.errors` translating pydantic's
errors into located diagnostics) and the JSON Schema export (:mod:`.jsonschema`).

The row models of the layer kinds live with the kinds (:mod:`cnnspec.kinds`); this
package imports nothing eagerly, so that the kinds can build on :mod:`.values`.
"""
