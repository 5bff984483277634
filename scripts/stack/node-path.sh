# Puts the project's Node (scripts/stack/node.sh installs it in $DANAU_HOME/node) first on PATH, so
# npm, npx, tsc, the tests, the worker and the danau CLI all run on it rather than on whatever Node
# the machine has. Source it with DANAU_ROOT set. It is kept apart from lib.sh because the danau
# launcher (scripts/cli/danau) needs this and nothing else: lib.sh also exports config/local.env.
DANAU_NODE_BIN="${DANAU_HOME:-$DANAU_ROOT/.danau}/node/bin"
case ":$PATH:" in
  *":$DANAU_NODE_BIN:"*) ;;
  *) export PATH="$DANAU_NODE_BIN:$PATH" ;;
esac
