-- wrk script: etcd v3 range of one key, for the direct-etcd comparison.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key":"' .. os.getenv("ETCD_KEY_B64") .. '"}'
