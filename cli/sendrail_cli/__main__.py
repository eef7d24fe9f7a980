from sendrail_cli.app import main

main()
