from libs.common.migrations import run_env
from services.victim_support.models import metadata

run_env(metadata)
