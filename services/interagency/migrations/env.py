from libs.common.migrations import run_env
from services.interagency.models import metadata

run_env(metadata)
