"""Delivery: the data domain (数据域) that holds the data units' source data, the product
operations that compute answers inside it, desensitized samples for data processors, and
(on top of them) the gateway that merchants' API clients call.

Raw data never leaves the domain (原始数据不出域、数据可用不可见): the only ways out are the
operations' answers (aggregates and yes/no facts, never rows) and masked, watermarked samples.
"""
