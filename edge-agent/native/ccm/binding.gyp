{
  "targets": [
    {
      "target_name": "ccm",
      "sources": [
        "ccm.c"
      ],
      "cflags": [
        "-O2",
        "-Wall",
        "-Wextra"
      ],
      "include_dirs": [
        "../include"
      ]
    }
  ]
}
