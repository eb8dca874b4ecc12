from sandbox.spapi.server import main

main()
