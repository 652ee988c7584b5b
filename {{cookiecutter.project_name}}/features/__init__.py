"""Feature pipelines, feature-table definitions, training-set assembly and scoring.

Everything here runs on a local SparkSession except ``databricks_store``, the one
module that talks to the Databricks Feature Store client.
"""
