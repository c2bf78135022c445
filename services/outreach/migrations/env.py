from libs.common.migrations import run_env
from services.outreach.models import metadata

run_env(metadata)
