from hactl.cli import main

main()
