"""The domain half of FHIR search: parameter registry, index extraction, query parsing.

- `registry.SearchParameterRegistry` / `registry.SearchParam`: which parameters exist.
- `index.IndexExtractor`: a resource's search index values, computed at write time.
- `query.SearchQueryParser`: FHIR search parameters -> the storage query IR.
- `subsearch.SessionSubSearch`: chains and `_has` through a store session.
"""
