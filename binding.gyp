{
  "targets": [
    {
      "target_name": "offsite_native",
      "sources": ["native/offsite_native.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
