"""Media type names, as upstream scripts compare against them."""

from sagemaker_sklearn_container import encoders as _ours

JSON = _ours.JSON
CSV = _ours.CSV
NPY = _ours.NPY
OCTET_STREAM = "application/octet-stream"
ANY = "*/*"
JSONLINES = _ours.JSONLINES
RECORDIO_PROTOBUF = _ours.RECORDIO_PROTOBUF
# Bodies of these types reach input_fn as str.
UTF8_TYPES = [JSON, CSV, ANY]
