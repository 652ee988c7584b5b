# The model reads pickup hours and weekdays from pandas clock times, which Spark hands to pandas
# (toPandas, the model's pandas UDF) in the session time zone, and training cutoffs are UTC clock
# times (steps/trips.py): every job reads the clock in UTC, as the local pipeline and the tests
# do, whatever zone the cluster is set to.
spark.conf.set("spark.sql.session.timeZone", "UTC")
