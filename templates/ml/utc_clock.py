# Spark hands pandas (toPandas, the model's pandas UDF) clock times in the session time zone: the
# model's clock features, the order rows are fitted in and the UTC training cutoffs
# (steps/trips.py) are read in UTC by every job, as the local pipeline and the tests read them,
# whatever zone the cluster is set to.
spark.conf.set("spark.sql.session.timeZone", "UTC")
