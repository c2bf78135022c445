from libs.common.migrations import run_env
from services.casework.models import metadata

run_env(metadata)
