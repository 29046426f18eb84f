"""Demo world generator: a believable Chinese distributor's source extracts (CRM,
ERP, marketplaces) as daily drops in the shape of EXTRACTS.md, with ground truth."""

from wmsight.demo.world import GenerationSummary, generate_world

__all__ = ["GenerationSummary", "generate_world"]
